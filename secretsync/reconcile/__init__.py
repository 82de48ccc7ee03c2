"""One sync of one ExternalSecret: pure decisions (refresh.py, writes.py, status.py) and the thin
shell that performs them (sync.py), plus the work queue that schedules syncs (queue.py)."""
