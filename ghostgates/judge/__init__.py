"""Judge: plain functions from fetched data to verdicts (facts, classifier, compose diff, rules); no I/O."""
