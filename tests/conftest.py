import os

# xlwings's decorators only register functions on a server; set before any import of xlwings.
os.environ.setdefault("XLWINGS_ON_SERVER", "true")
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

# What xlwings Server's main.py and xlwings Lite's runtime do at start: object handles
# (COVHANDLE) are written and read through xlwings's own cache converter.
from xlwings.pro.object_handles import CONVERTER_KEYS, ObjectCacheConverter  # noqa: E402

ObjectCacheConverter.register(*CONVERTER_KEYS)
