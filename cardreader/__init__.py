"""Card access: PC/SC through pyscard (``cardreader.pcsc``) and the virtual ID card (``cardreader.virtual``)."""
