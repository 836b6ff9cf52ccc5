"""Tests of the C runtime (fluentai/runtime/).

A package, so that test_numbers.py here and tests/unit/test_numbers.py do not collide.
"""
