"""Serving: the real-time service, batch scoring, shadow mode and the load test.

Both the service and batch scoring load one packaged model (models/artifact.py),
either from a folder (a container image bakes one in) or by registry stage
(`prod`, `staging`), so what serves is always a registered, evaluated version.
"""
