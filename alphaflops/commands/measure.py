"""The ``alphaflops measure`` command (being written)."""


def configure(parser):
    pass


def run(args):
    raise NotImplementedError("alphaflops measure is being written")
