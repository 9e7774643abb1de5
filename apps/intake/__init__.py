"""The signed-file intake pipeline shared by every file kind (payroll, employee files, 批量开户).

Each kind supplies its loader, its row and registry checks and its store step; this app owns what
they share: accepting the upload, the one guarded transition, opening the envelope and checking
the agreement, the claim with its heartbeat and attempts, the sweeper, and the error reports.
"""
