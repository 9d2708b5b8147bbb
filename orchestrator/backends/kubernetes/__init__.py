"""The Kubernetes backend: one GPU pod per streamer, a cluster-wide warm pool.

`backend` is the SessionBackend; `client` wraps kubernetes-asyncio; `cache` keeps a
list-and-watch view of the pods; `manifests` builds them; `fleet` and `lease` keep the
warm pool with one leader; `status` maps pod status to what the orchestrator needs.
"""
