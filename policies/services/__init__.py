"""Domain operations used by views, the API, tasks and commands.

The seam between the database and the engine (and the Kubernetes API): views and tasks
call these modules, never the engine or the Kubernetes client directly.
"""
