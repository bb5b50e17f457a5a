"""The ``alphaflops estimate`` command (being written)."""


def configure(parser):
    pass


def run(args):
    raise NotImplementedError("alphaflops estimate is being written")
