//===- Npy.cpp - NumPy .npy files of f32 arrays ---------------------------===//

#include "moe-mlir/Runner/Npy.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <string>

using namespace llvm;

namespace moe::run {

/// Writes a C-order f32 array as a NumPy .npy file, format version 1.0: the
/// magic string, the version, a little-endian u16 header length, then an
/// ASCII dict padded with spaces and ended by a newline so that the data
/// starts at a multiple of 64 bytes, then the raw little-endian data.
Error writeNpy(StringRef path, const float *data, ArrayRef<int64_t> shape) {
  static_assert(sizeof(float) == 4, "f32 is 4 bytes");
  std::string shapeText = "(";
  for (auto [i, dim] : llvm::enumerate(shape))
    shapeText += (i ? ", " : "") + std::to_string(dim);
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
    return createStringError("the .npy header is too long");

  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return createStringError("cannot write '" + path + "': " + ec.message());
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
  if (os.has_error())
    return createStringError("cannot write '" + path +
                             "': " + os.error().message());
  return Error::success();
}

/// Reads a C-order little-endian f32 NumPy .npy file (format 1.0 or 2.0).
Expected<HostTensor> readNpy(StringRef path) {
  HostTensor input;
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return createStringError("cannot read '" + path +
                             "': " + buffer.getError().message());
  StringRef bytes = (*buffer)->getBuffer();
  auto bad = [&](const Twine &why) {
    return createStringError("'" + path +
                             "' is not a usable .npy file: " + why);
  };
  if (bytes.size() < 10 || !bytes.starts_with("\x93NUMPY"))
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
    return bad("format version " + Twine(major));
  }
  if (bytes.size() < headerStart + headerLength)
    return bad("truncated header");
  StringRef header = bytes.substr(headerStart, headerLength);
  if (!header.contains("'descr': '<f4'"))
    return bad("only little-endian f32 ('<f4') arrays are read; convert with "
               "numpy.asarray(a, dtype='<f4')");
  if (!header.contains("'fortran_order': False"))
    return bad("only C-order arrays are read");
  size_t open = header.find("'shape': (");
  size_t close = open == StringRef::npos ? open : header.find(')', open);
  if (close == StringRef::npos)
    return bad("no shape");
  StringRef dims = header.slice(open + 10, close);
  input.shape.clear();
  int64_t count = 1;
  SmallVector<StringRef> parts;
  dims.split(parts, ',', -1, /*KeepEmpty=*/false);
  for (StringRef part : parts) {
    part = part.trim();
    if (part.empty())
      continue;
    int64_t dim;
    if (part.getAsInteger(10, dim) || dim < 0)
      return bad("bad shape '(" + dims + ")'");
    input.shape.push_back(dim);
    count *= dim;
  }
  StringRef data = bytes.substr(headerStart + headerLength);
  if (data.size() != size_t(count) * 4)
    return bad(Twine(data.size()) + " data bytes for " + Twine(count) +
               " f32 values");
  input.data.resize(count);
  // An empty array (T = 0) has no data pointer to copy from.
  if (count > 0)
    std::memcpy(input.data.data(), data.data(), data.size());
  return input;
}

} // namespace moe::run
