"""Read: what people wrote (the phase file, the state file as CommonMark reads it, citations, statements)."""
