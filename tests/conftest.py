import os

# xlwings's decorators only register functions on a server; set before any import of xlwings.
os.environ.setdefault("XLWINGS_ON_SERVER", "true")
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
