"""The ``alphaflops evaluate`` command (being written)."""


def configure(parser):
    pass


def run(args):
    raise NotImplementedError("alphaflops evaluate is being written")
