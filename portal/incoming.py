"""What arrives from a browser, made fit to store: no NUL characters.

PostgreSQL's text cannot hold NUL (U+0000), and psycopg refuses a statement that carries
one, so a NUL pasted into any field, or put in an address, would fail the request deep in
the database. A NUL never means anything in what people type, so it is taken out of every
form field, query parameter and uploaded file's name as the request is read, whichever
page reads it, and an address part holding one matches no route (a 404). SQLite would
store it, which would make the two databases behave differently.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request
from werkzeug.datastructures import FileStorage, ImmutableMultiDict, iter_multi_items
from werkzeug.routing import UnicodeConverter

NUL = "\x00"


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace(NUL, "")
    if isinstance(value, FileStorage) and value.filename:
        value.filename = value.filename.replace(NUL, "")
    return value


class TextWithoutNul(ImmutableMultiDict):
    """Form fields, query parameters and files, with every NUL taken out."""

    def __init__(self, mapping=None) -> None:
        if mapping is None:
            super().__init__()
        else:
            super().__init__([(_clean(k), _clean(v)) for k, v in iter_multi_items(mapping)])


class PortalRequest(Request):
    parameter_storage_class = TextWithoutNul


class TextConverter(UnicodeConverter):
    """``<slug>`` and ``<string:…>``: any characters but a slash or a NUL."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        super().__init__(url_map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", "[^/\\x00]", 1)


def init_app(app: Flask) -> None:
    app.request_class = PortalRequest
    app.url_map.converters["default"] = TextConverter
    app.url_map.converters["string"] = TextConverter
