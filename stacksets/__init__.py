"""stacksets: roll the appstorage templates out as CloudFormation StackSet instances."""
