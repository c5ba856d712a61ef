"""The hate-incident register: cases for caseworkers, statistics for everybody, retention."""
