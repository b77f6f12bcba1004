"""The leaves every layer uses: dtypes, the device type, fastnn's random generator and the kernel
name table. Nothing here imports the rest of the package."""
