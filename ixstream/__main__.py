from ixstream.cli import app

app(prog_name="ixstream")
