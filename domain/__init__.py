"""Frontline's domain: the vocabulary, aggregates, commands and the pure projection rules.

Pure by rule: the standard library and ``eventsourcing`` only, no I/O libraries.
"""
