# policy/: YAML access policy, governance and views (issues 6 and 7).
