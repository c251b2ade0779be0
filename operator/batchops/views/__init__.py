"""What the CLI shows of a pipeline: the step graph and a run's progress, rendered to text.

Pure functions of parsed specs and status mappings (no I/O, no clock read here), so every
rendering is unit-tested; the `commands` modules fetch the objects and print.
"""
