from django.urls import path

from scada.hmi.consumers import HmiConsumer

websocket_urlpatterns = [path("ws/hmi/", HmiConsumer.as_asgi())]
