import convoport


def test_x() -> None:
    assert convoport.__version__
