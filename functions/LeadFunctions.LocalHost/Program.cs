// Replaced by the local host implementation.
return 0;
