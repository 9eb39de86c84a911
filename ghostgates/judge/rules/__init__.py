"""One deciding function per requirement id of gates.md: data in, Verdict out."""
