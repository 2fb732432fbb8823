"""The dashboard pages: clusters, overview, graph, matrix, explain, lists and details."""
