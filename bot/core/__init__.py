"""The conversation core: pure logic, no I/O, no framework or vendor imports."""
