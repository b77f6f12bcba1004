# [note: ISA units] guard, run after linking _C: an object compiled with -mavx512f/-mavx2 must not
# define weak (W/V) or unique (u) symbols, since the linker may pick that copy for generic code,
# which would then crash with SIGILL on older CPUs, nor a static initializer. Usage: cmake -DNM=... -DOBJECTS="a.o|b.o" -P this
if(NOT NM)
  message(WARNING "fastnn: nm not found, ISA-unit symbol check skipped")
  return()
endif()
string(REPLACE "|" ";" OBJECTS "${OBJECTS}")
foreach(obj IN LISTS OBJECTS)
  if(NOT obj MATCHES "_avx(512|2)\\.cpp\\.o$")
    continue()
  endif()
  execute_process(COMMAND ${NM} -C --defined-only ${obj} OUTPUT_VARIABLE syms RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "fastnn: nm failed on ${obj}")
  endif()
  string(REGEX MATCHALL "[^\n]* [WVu] [^\n]*" weak "${syms}")
  # DW.ref.__gxx_personality_v0 is one pointer-sized data word (the address of the C++
  # personality routine, the same in every object) that the unwinder reads for functions with
  # cleanups; it holds no instructions, so whichever copy the linker keeps is harmless. Builds
  # that add landing pads to the ISA units emit it there (-fsanitize=address does).
  list(FILTER weak EXCLUDE REGEX " V DW\\.ref\\.__gxx_personality_v0$")
  if(weak)
    string(REPLACE ";" "\n  " weak "${weak}")
    message(FATAL_ERROR "fastnn: ${obj} defines symbols the linker may merge with generic code "
      "(see [note: ISA units] in CMakeLists.txt):\n  ${weak}")
  endif()
  # A static initializer (GCC and Clang name it _GLOBAL__sub_I_<file>) runs at import, on any CPU.
  if(syms MATCHES "_GLOBAL__sub_I_")
    message(FATAL_ERROR "fastnn: ${obj} builds an object at load time, with its ISA's "
      "instructions, before the CPU is checked (see [note: ISA units] in CMakeLists.txt)")
  endif()
endforeach()
