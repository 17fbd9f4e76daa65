"""IAM policies: parsing (``policy``), the action catalogue (``actions``), conditions, effective-permission
evaluation (``evaluate``) and privilege-escalation techniques (``escalation``)."""
