"""Pulling xAPI statements from a Learning Record Store into the raw statements table."""
