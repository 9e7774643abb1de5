"""The file exchange shared by the enterprise client and the bank platform.

Pure Python: nothing in this package imports Django, so the offline client and the
portal read and write every file with one definition of every format and rule.
"""
