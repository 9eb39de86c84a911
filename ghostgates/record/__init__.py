"""Record: what a run writes (review blocks, signatures, gate lines and gates.json, atomic writes)."""
