"""Stands in for setuptools' pkg_resources where a Python has none: Debian's gunicorn 20.1
imports it at start-up, and uses it only for 'egg:' worker URIs and gevent/eventlet checks."""
from importlib.metadata import entry_points


def load_entry_point(dist, group, name):
    for ep in entry_points(group=group):
        if ep.name == name:
            return ep.load()
    raise ImportError(f"no entry point {group}:{name}")


def parse_version(text):
    return tuple(int(p) if p.isdigit() else p for p in text.split("."))
