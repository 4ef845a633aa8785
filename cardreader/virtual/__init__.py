"""The virtual German ID card: :class:`VirtualCard` (the chip), servable to pcscd by :mod:`.vpcd`."""

from cardreader.virtual.card import VirtualCard

__all__ = ["VirtualCard"]
