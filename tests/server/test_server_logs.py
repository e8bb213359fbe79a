"""corrlev_xl.server.logs: records keep their words but lose every cell value (no server needed)."""

from __future__ import annotations

import io
import logging

import pytest
import xlwings as xw

from corrlev_xl.server import logs


@pytest.fixture
def captured():
    """A handler as the server's: the filter on it, the standard formatter, a string for the output."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
    handler.addFilter(logs.RedactValues())
    loggers = [logging.getLogger(n) for n in ("xlwings_server.main", "corrlev_xl", "uvicorn.access", "other")]
    for lg in loggers:
        lg.addHandler(handler)
        lg.propagate, lg.level = False, logging.INFO
    yield out
    for lg in loggers:
        lg.removeHandler(handler)
        lg.propagate, lg.level = True, logging.NOTSET


@pytest.mark.parametrize(("text", "expected"), [
    ("EFFLEV: equity must be a positive amount in the account currency; got -5",
     "EFFLEV: equity must be a positive amount in the account currency; got #"),
    ("COVMATRIX: prices has the text 'abc' at row 3, column 2; expected a number",
     "COVMATRIX: prices has the text '…' at row #, column #; expected a number"),
    ('got 1,234,567.89, 1e-5, .5, 12% and "quoted 7"', "got #, #, #, # and '…'"),
    ("SP500 and USDJPY keep their names", "SP500 and USDJPY keep their names"),
])
def test_masked(text, expected):
    assert logs.masked(text) == expected


def test_an_error_xlwings_server_logs_names_the_function_and_class_not_the_values(captured):
    logging.getLogger("xlwings_server.main").error(xw.XlwingsError("EFFLEV: equity must be positive; got -98765.43"))
    assert captured.getvalue() == "ERROR:xlwings_server.main:XlwingsError: EFFLEV: equity must be positive; got #\n"


def test_corrlev_records_are_masked_whatever_their_level(captured):
    logging.getLogger("corrlev_xl").warning("%s: %s", "corrlev-xl", "USDJPY -2 lot(s); NAS100 -28 lot(s)")
    assert captured.getvalue() == "WARNING:corrlev_xl:corrlev-xl: USDJPY # lot(s); NAS100 # lot(s)\n"


def test_a_traceback_keeps_its_frames_not_its_message(captured):
    def fails(price: float) -> None:
        try:
            raise KeyError(f"no quote {price}")
        except KeyError as exc:
            raise ValueError(f"price {price} is wrong") from exc

    price = 4321.5  # a cell value: the traceback shows code lines, and this one is not among them
    try:
        fails(price)
    except ValueError:
        logging.getLogger("other").exception("Exception in ASGI application")
    text = captured.getvalue()
    assert "4321" not in text
    assert text.startswith("ERROR:other:Exception in ASGI application\nTraceback (most recent call last):")
    assert 'in fails' in text and 'raise ValueError(f"price {price} is wrong") from exc' in text  # code, not values
    assert f"KeyError: {logs.WITHHELD}" in text and f"ValueError: {logs.WITHHELD}" in text
    assert "The above exception led to the following one" in text


def test_other_records_are_left_alone(captured):
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "POST",
                                             "/xlwings/custom-functions-call", "1.1", 400)
    logging.getLogger("xlwings_server.main").info("Running on port 8000")
    assert captured.getvalue() == ('INFO:uvicorn.access:127.0.0.1:5000 - "POST /xlwings/custom-functions-call '
                                   'HTTP/1.1" 400\nINFO:xlwings_server.main:Running on port 8000\n')


def test_install_is_idempotent():
    lg = logging.getLogger("corrlev_xl.test_install")
    logs.install([lg.name])
    logs.install([lg.name])
    assert sum(isinstance(f, logs.RedactValues) for f in lg.filters) == 1
    lg.filters.clear()
