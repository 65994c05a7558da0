"""Reliability scenarios: faults, bad input, crashes, reruns, hostile names, secrets, soak.

``python -m reliability.run [--fast] [--only NAME]`` runs them on the platform sandbox in
temporary AGENCY_PULSE_HOMEs and prints what was injected, expected and observed.
"""
