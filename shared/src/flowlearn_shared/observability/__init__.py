"""Metrics, trace context and the metrics listener every service shares.

Metric names live in ``metrics``; trace context (W3C ``traceparent``) in ``tracing``;
the small HTTP listener that serves ``/metrics`` in services without HTTP in ``endpoint``.
"""
