"""Authentication providers of corrlev-xl's xlwings Server project (``XLWINGS_AUTH_PROVIDERS``)."""
