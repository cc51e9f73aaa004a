//===- Npy.cpp - NumPy .npy files of f32 arrays ---------------------------===//

#include "moe-mlir/Runner/Npy.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace moe::run {

/// Writes a C-order f32 array as a NumPy .npy file, format version 1.0: the
/// magic string, the version, a little-endian u16 header length, then an
/// ASCII dict padded with spaces and ended by a newline so that the data
/// starts at a multiple of 64 bytes, then the raw little-endian data.
std::string writeNpy(const std::string &path, const float *data,
                     const std::vector<int64_t> &shape) {
  static_assert(sizeof(float) == 4, "f32 is 4 bytes");
  std::string shapeText = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    shapeText += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1)
    shapeText += ",";
  shapeText += ")";
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + shapeText + ", }";
  constexpr size_t kPrefix = 10; // magic (6) + version (2) + length (2)
  size_t total = kPrefix + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  if (header.size() > 0xffff)
    return "the .npy header is too long";

  std::ofstream os(path, std::ios::binary | std::ios::trunc);
  if (!os)
    return "cannot write '" + path + "': " + std::strerror(errno);
  os << "\x93NUMPY";
  os << char(1) << char(0);
  os << char(header.size() & 0xff) << char((header.size() >> 8) & 0xff);
  os << header;
  int64_t size = 1;
  for (int64_t dim : shape)
    size *= dim;
  for (int64_t i = 0; i < size; ++i) {
    uint32_t bits;
    std::memcpy(&bits, &data[i], sizeof(bits));
    char bytes[4] = {char(bits & 0xff), char((bits >> 8) & 0xff),
                     char((bits >> 16) & 0xff), char((bits >> 24) & 0xff)};
    os.write(bytes, sizeof(bytes));
  }
  os.close();
  if (!os)
    return "cannot write '" + path + "': " + std::strerror(errno);
  return "";
}

/// Reads a C-order little-endian f32 NumPy .npy file (format 1.0 or 2.0).
std::string readNpy(const std::string &path, HostTensor &input) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return "cannot read '" + path + "': " + std::strerror(errno);
  std::string bytes((std::istreambuf_iterator<char>(file)),
                    std::istreambuf_iterator<char>());
  auto bad = [&](const std::string &why) {
    return "'" + path + "' is not a usable .npy file: " + why;
  };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    return bad("no .npy magic string");
  unsigned major = static_cast<unsigned char>(bytes[6]);
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength = static_cast<unsigned char>(bytes[8]) |
                   static_cast<unsigned char>(bytes[9]) << 8;
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return bad("truncated header");
    headerLength = 0;
    for (int i = 0; i < 4; ++i)
      headerLength |= size_t(static_cast<unsigned char>(bytes[8 + i]))
                      << (8 * i);
    headerStart = 12;
  } else {
    return bad("format version " + std::to_string(major));
  }
  if (bytes.size() < headerStart + headerLength)
    return bad("truncated header");
  std::string header = bytes.substr(headerStart, headerLength);
  auto contains = [&](const char *text) {
    return header.find(text) != std::string::npos;
  };
  if (!contains("'descr': '<f4'"))
    return bad("only little-endian f32 ('<f4') arrays are read; convert with "
               "numpy.asarray(a, dtype='<f4')");
  if (!contains("'fortran_order': False"))
    return bad("only C-order arrays are read");
  size_t open = header.find("'shape': (");
  size_t close = open == std::string::npos ? open : header.find(')', open);
  if (close == std::string::npos)
    return bad("no shape");
  std::string dims = header.substr(open + 10, close - (open + 10));
  input.shape.clear();
  int64_t count = 1;
  std::istringstream parts(dims);
  for (std::string part; std::getline(parts, part, ',');) {
    size_t first = part.find_first_not_of(" \t");
    if (first == std::string::npos)
      continue;
    size_t last = part.find_last_not_of(" \t");
    part = part.substr(first, last - first + 1);
    char *end = nullptr;
    errno = 0;
    long long dim = std::strtoll(part.c_str(), &end, 10);
    if (*end || errno || dim < 0)
      return bad("bad shape '(" + dims + ")'");
    input.shape.push_back(dim);
    count *= dim;
  }
  size_t dataStart = headerStart + headerLength;
  size_t dataSize = bytes.size() - dataStart;
  if (dataSize != size_t(count) * 4)
    return bad(std::to_string(dataSize) + " data bytes for " +
               std::to_string(count) + " f32 values");
  input.data.resize(count);
  // An empty array (T = 0) has no data pointer to copy from.
  if (count > 0)
    std::memcpy(input.data.data(), bytes.data() + dataStart, dataSize);
  return "";
}

} // namespace moe::run
