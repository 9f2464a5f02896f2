"""Speed and memory measurements of VALL-E Studio on the full-size model (scripts, not tests)."""
