"""Operations of the box: backup/restore, signed updates, metrics and structured logs, deployment hardening."""
