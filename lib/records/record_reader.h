// Reading back the records `ptjs run` writes (JSONL or CSV), for --resume, eval and compare.
// No libtorch here.
#pragma once

#include <string>
#include <vector>

#include "postprocess.h"

namespace ptjs {

// RFC 4180 rows of `text` (quoted fields, "" inside quotes, CRLF or LF). A last line without
// its newline is a row too.
std::vector<std::vector<std::string>> parse_csv(const std::string& text);

// The records of a file written by `ptjs run` (or by `cat` of several), in file order: JSONL,
// or CSV `file,rank,index,label,score,error` (one row per prediction; told apart by the header
// or, without one, by a .csv name). Raw outputs are not kept. Throws
// ptjs::error(invalid_config) "<path>:<line>: <what>" for a line that is not a record.
std::vector<record> read_records(const std::string& path);

}  // namespace ptjs
