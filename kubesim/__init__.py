"""kubesim: a Kubernetes API simulator for tests and scale experiments (DESIGN.md §4).

No Kubernetes control plane runs on this project's machines, so this package serves the
subset of the real API that `orchestrator.backends.kubernetes` uses, over real HTTP,
with the real semantics: `generateName`, label and field selectors, `resourceVersion`
optimistic concurrency (409 Conflict), watch streams that resume from a resourceVersion
(and answer 410 Gone when it is too old), `Status` error bodies, merge, strategic-merge
and JSON patches, and graceful deletion. Behind the API sits a small model of the
controllers a real cluster runs: a scheduler that fits pods onto nodes by their
extended resources (`nvidia.com/gpu`), a kubelet that makes pods Running and Ready (or,
on request, runs their container as a local process on a loopback address), a node
lifecycle controller, pod garbage collection and owner-reference garbage collection.

Like kwok, it carries a thousand simulated GPU nodes on one machine. Start it with
`python -m kubesim --port 0 --nodes 4 --gpus-per-node 1 --kubeconfig kubeconfig.yaml`.
"""
