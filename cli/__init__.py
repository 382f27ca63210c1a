"""The analogam command line (installed as the ``analogam_cli`` package)."""
