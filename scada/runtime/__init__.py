"""The gateway runtime (``manage.py run_scada``): see scada.runtime.gateway and docs/scada.md."""
