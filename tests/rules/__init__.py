"""Rule tests: one module per rule family (``tests/rules/test_<family>.py`` for ``rules/<family>.py``), each rule
run through ``run_rule`` on snapshots built in code, each risky case beside its benign twin."""
