"""`python -m ixstream ...`: the `ixstream` command, the name the local backend, the tests
and the load harness start it by. Forwarding to `ixcli` is the one import from this
package up the layers; the import contract names it as its only exception."""

from ixcli.app import app

app(prog_name="ixstream")
