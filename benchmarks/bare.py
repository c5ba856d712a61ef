"""Bare Flask, the baseline the portal's pages are measured against."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index() -> str:
    return "ok"


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}
