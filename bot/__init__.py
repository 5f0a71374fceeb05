"""TISI Pay: the LINE payment assistant of the Thai Industrial Standards Institute."""
