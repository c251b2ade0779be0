"""The chaos suite (issue #9): the operator under SIGKILLs, API server restarts, Batch
faults and an emulator outage."""
