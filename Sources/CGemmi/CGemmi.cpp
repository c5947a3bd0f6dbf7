// The C API of CGemmi.h over gemmi (header-only, Debian gemmi-dev 0.5.7). Every entry point
// catches all C++ exceptions; nothing of C++ leaks into the caller.

#include "CGemmi.h"

#include <gemmi/c4322.hpp>
#include <gemmi/elem.hpp>
#include <gemmi/json.hpp>     // read_mmjson_insitu
#include <gemmi/mmcif.hpp>    // make_structure
#include <gemmi/mmread.hpp>   // coor_format_from_ext
#include <gemmi/pdb.hpp>      // read_pdb_from_memory
#include <gemmi/model.hpp>
#include <gemmi/version.hpp>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include <sys/stat.h>
#include <zlib.h>

namespace {

// Copies `text` as one line into the caller's buffer: newlines (gemmi's messages sometimes span
// lines) become "; " (" " after a colon), trailing white space is dropped, and the result is
// truncated to fit.
void write_message(const std::string& text, char* message, size_t message_size) {
    if (message == nullptr || message_size == 0) return;
    std::string line;
    line.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\r') continue;
        if (c == '\n') {
            while (!line.empty() && line.back() == ' ') line.pop_back();
            if (!line.empty() && i + 1 < text.size()) line += line.back() == ':' ? " " : "; ";
            continue;
        }
        line += c;
    }
    while (!line.empty() && (line.back() == ' ' || line.back() == ';')) line.pop_back();
    size_t n = line.size() < message_size - 1 ? line.size() : message_size - 1;
    std::memcpy(message, line.data(), n);
    message[n] = '\0';
}

// Runs `body` (which returns a CGEMMI_ code) and turns any C++ exception into `error_code` with
// its message; running out of memory is CGEMMI_ERROR_INTERNAL. `context` ends the generic lines.
template <class Body>
int guarded(Body body, int error_code, const char* context, char* message, size_t message_size) {
    try {
        return body();
    } catch (const std::bad_alloc&) {
        write_message(std::string("out of memory") + context, message, message_size);
        return CGEMMI_ERROR_INTERNAL;
    } catch (const std::exception& e) {
        write_message(e.what(), message, message_size);
        return error_code;
    } catch (...) {
        write_message(std::string("unknown error") + context, message, message_size);
        return error_code;
    }
}

// The integer a model's name spells (gemmi keeps model numbers as strings), or `fallback`.
int32_t model_number_of(const gemmi::Model& model, int32_t fallback) {
    const char* s = model.name.c_str();
    char* end = nullptr;
    errno = 0;
    long value = std::strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0 || value < INT32_MIN || value > INT32_MAX)
        return fallback;
    return static_cast<int32_t>(value);
}

template <typename T>
T* copy_out(const std::vector<T>& v) {
    if (v.empty()) return nullptr;
    T* p = static_cast<T*>(std::malloc(v.size() * sizeof(T)));
    if (p == nullptr) throw std::bad_alloc();
    std::memcpy(p, v.data(), v.size() * sizeof(T));
    return p;
}

// A string pool: NUL-terminated strings in one buffer; repeated strings may share an entry.
struct Pool {
    std::vector<char> bytes;
    std::unordered_map<std::string, uint32_t> shared;

    uint32_t add(const std::string& s) {
        uint32_t offset = static_cast<uint32_t>(bytes.size());
        bytes.insert(bytes.end(), s.begin(), s.end());
        bytes.push_back('\0');
        return offset;
    }
    uint32_t add_shared(const std::string& s) {
        auto it = shared.find(s);
        if (it != shared.end()) return it->second;
        uint32_t offset = add(s);
        shared.emplace(s, offset);
        return offset;
    }
};


// Uncompressed files and gzip data above this are refused (gemmi's own limit is 3 GiB).
constexpr size_t max_model_bytes = size_t(3) << 30;

// The bytes of the file at `path`, which must be a regular file.
std::string read_file(const std::string& path) {
    struct stat info;
    if (::stat(path.c_str(), &info) != 0)
        throw std::runtime_error("Failed to open " + path + ": " + std::strerror(errno));
    if (S_ISDIR(info.st_mode)) throw std::runtime_error("is a directory");
    if (!S_ISREG(info.st_mode)) throw std::runtime_error("is not a regular file");
    if (static_cast<uint64_t>(info.st_size) > max_model_bytes)
        throw std::runtime_error("file of " + std::to_string(info.st_size) + " bytes is larger than 3 GiB");
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) throw std::runtime_error("Failed to open " + path + ": " + std::strerror(errno));
    std::string bytes;
    char buffer[65536];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) {
        bytes.append(buffer, n);
        if (bytes.size() > max_model_bytes) {
            std::fclose(f);
            throw std::runtime_error("file is larger than 3 GiB");
        }
    }
    bool failed = std::ferror(f) != 0;
    int error = errno;
    std::fclose(f);
    if (failed) throw std::runtime_error(std::string("read error: ") + std::strerror(error));
    return bytes;
}

// The uncompressed content of gzip data (several members allowed, as gzip writes them).
std::string gunzip(const std::string& compressed) {
    auto corrupt = [](const std::string& why) { return std::runtime_error("corrupt gzip data: " + why); };
    if (compressed.size() < 2 || static_cast<unsigned char>(compressed[0]) != 0x1f ||
        static_cast<unsigned char>(compressed[1]) != 0x8b)
        throw corrupt("no gzip header");
    std::string out;
    z_stream z;
    std::memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw std::bad_alloc();
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
    z.avail_in = static_cast<uInt>(compressed.size());  // < 3 GiB: fits
    char buffer[65536];
    for (;;) {
        z.next_out = reinterpret_cast<Bytef*>(buffer);
        z.avail_out = sizeof buffer;
        int status = inflate(&z, Z_NO_FLUSH);
        out.append(buffer, sizeof buffer - z.avail_out);
        if (out.size() > max_model_bytes) {
            inflateEnd(&z);
            throw std::runtime_error("uncompressed data larger than 3 GiB");
        }
        if (status == Z_STREAM_END) {
            if (z.avail_in == 0) break;
            inflateReset(&z);  // the next gzip member
            continue;
        }
        if (status == Z_OK) continue;
        if (status == Z_BUF_ERROR && z.avail_in == 0) {
            inflateEnd(&z);
            throw corrupt("unexpected end of data");
        }
        std::string why = z.msg != nullptr ? z.msg : "zlib error " + std::to_string(status);
        inflateEnd(&z);
        throw corrupt(why);
    }
    inflateEnd(&z);
    return out;
}

// The offset of the first byte that no text file holds (a control character other than tab,
// line feed, form feed, vertical tab and carriage return), or npos.
size_t first_binary_byte(const std::string& bytes) {
    for (size_t i = 0; i < bytes.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(bytes[i]);
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\v' && c != '\f' && c != '\r') || c == 0x7f)
            return i;
    }
    return std::string::npos;
}

size_t atom_count(const gemmi::Structure& st) {
    size_t n = 0;
    for (const gemmi::Model& model : st.models)
        for (const gemmi::Chain& chain : model.chains)
            for (const gemmi::Residue& res : chain.residues) n += res.atoms.size();
    return n;
}

// Reads `path` as gemmi's read_structure would (the format by the extension, ".gz"
// uncompressed), but through one in-memory buffer so that a directory, a corrupt gzip stream
// and binary data get their own messages.
gemmi::Structure read_structure(const std::string& path) {
    bool gzipped = gemmi::iends_with(path, ".gz");
    std::string base = gzipped ? path.substr(0, path.size() - 3) : path;
    gemmi::CoorFormat format = gemmi::coor_format_from_ext(base);
    if (format == gemmi::CoorFormat::Unknown) throw std::runtime_error("Unknown format of " + path + ".");
    std::string bytes = read_file(path);
    if (gzipped) bytes = gunzip(bytes);
    gemmi::Structure st;
    if (format == gemmi::CoorFormat::Pdb) {
        st = gemmi::read_pdb_from_memory(bytes.data(), bytes.size(), path);
    } else if (format == gemmi::CoorFormat::Mmcif) {
        st = gemmi::make_structure(gemmi::cif::read_memory(bytes.data(), bytes.size(), path.c_str()));
    } else {
        st = gemmi::make_structure(gemmi::cif::read_mmjson_insitu(&bytes[0], bytes.size(), path));
    }
    size_t binary = first_binary_byte(bytes);
    if (atom_count(st) == 0 && binary != std::string::npos)
        throw std::runtime_error(std::string("not a PDB or mmCIF file (binary data at byte ") +
                        std::to_string(binary) + ")");
    return st;
}

}  // namespace

extern "C" int cgemmi_read_atoms(const char* path, int use_model_number, int32_t model_number,
                                 CGemmiAtoms* out, char* message, size_t message_size) {
    if (out != nullptr) std::memset(out, 0, sizeof(*out));
    if (message != nullptr && message_size > 0) message[0] = '\0';
    if (path == nullptr || out == nullptr) {
        write_message("cgemmi_read_atoms: null argument", message, message_size);
        return CGEMMI_ERROR_INTERNAL;
    }
    gemmi::Structure st;
    int status = guarded([&] {
        st = read_structure(path);
        return CGEMMI_OK;
    }, CGEMMI_ERROR_READ, " while reading", message, message_size);
    if (status != CGEMMI_OK) return status;

    return guarded([&]() -> int {
        if (st.models.empty()) {
            write_message("no models (no ATOM/HETATM records or _atom_site rows)", message,
                          message_size);
            return CGEMMI_ERROR_NO_MODELS;
        }
        std::vector<int32_t> numbers;
        numbers.reserve(st.models.size());
        for (size_t i = 0; i < st.models.size(); ++i)
            numbers.push_back(model_number_of(st.models[i], static_cast<int32_t>(i + 1)));

        size_t chosen = 0;
        if (use_model_number) {
            chosen = st.models.size();
            for (size_t i = 0; i < numbers.size(); ++i)
                if (numbers[i] == model_number) { chosen = i; break; }
            if (chosen == st.models.size()) {
                // The caller gets the list of models with the error (free with cgemmi_atoms_free).
                out->model_count = numbers.size();
                out->model_numbers = copy_out(numbers);
                std::string list;
                for (size_t i = 0; i < numbers.size(); ++i)
                    list += (i ? ", " : "") + std::to_string(numbers[i]);
                write_message("model " + std::to_string(model_number) + " not found (models: " +
                              list + ")", message, message_size);
                return CGEMMI_ERROR_NO_SUCH_MODEL;
            }
        }
        const gemmi::Model& model = st.models[chosen];

        size_t n = 0;
        for (const gemmi::Chain& chain : model.chains)
            for (const gemmi::Residue& res : chain.residues)
                n += res.atoms.size();

        std::vector<double> x, y, z;
        std::vector<float> b_iso, occ, aniso;
        std::vector<uint8_t> has_aniso, atomic_number;
        std::vector<char> altloc, icode;
        std::vector<int32_t> resnum, serial;
        std::vector<uint32_t> element_off, atom_off, resname_off, chain_off;
        x.reserve(n); y.reserve(n); z.reserve(n);
        b_iso.reserve(n); occ.reserve(n); aniso.reserve(6 * n);
        has_aniso.reserve(n); atomic_number.reserve(n);
        altloc.reserve(n); icode.reserve(n); resnum.reserve(n); serial.reserve(n);
        element_off.reserve(n); atom_off.reserve(n); resname_off.reserve(n); chain_off.reserve(n);
        Pool pool;

        for (const gemmi::Chain& chain : model.chains) {
            uint32_t chain_name = pool.add_shared(chain.name);
            for (const gemmi::Residue& res : chain.residues) {
                uint32_t res_name = pool.add_shared(res.name);
                int32_t number = res.seqid.num.has_value()
                                     ? static_cast<int32_t>(res.seqid.num.value)
                                     : CGEMMI_NO_RESIDUE_NUMBER;
                for (const gemmi::Atom& atom : res.atoms) {
                    x.push_back(atom.pos.x);
                    y.push_back(atom.pos.y);
                    z.push_back(atom.pos.z);
                    b_iso.push_back(atom.b_iso);
                    occ.push_back(atom.occ);
                    // gemmi (DensityCalculator, too) takes an atom as anisotropic when the
                    // trace of U is nonzero.
                    bool aniso_present = atom.aniso.nonzero();
                    has_aniso.push_back(aniso_present ? 1 : 0);
                    for (float u : atom.aniso.elements_pdb())
                        aniso.push_back(aniso_present ? u : 0.0f);
                    altloc.push_back(atom.altloc);
                    icode.push_back(res.seqid.icode);
                    resnum.push_back(number);
                    serial.push_back(atom.serial);
                    atomic_number.push_back(
                        static_cast<uint8_t>(atom.element.atomic_number()));
                    element_off.push_back(pool.add_shared(atom.element.name()));
                    atom_off.push_back(pool.add_shared(atom.name));
                    resname_off.push_back(res_name);
                    chain_off.push_back(chain_name);
                }
            }
        }
        if (pool.bytes.size() > UINT32_MAX) {
            write_message("too many distinct names for 32-bit offsets", message, message_size);
            return CGEMMI_ERROR_INTERNAL;
        }

        CGemmiAtoms result;
        std::memset(&result, 0, sizeof(result));
        try {
            result.count = n;
            result.model_number = numbers[chosen];
            result.model_count = numbers.size();
            result.model_numbers = copy_out(numbers);
            result.x = copy_out(x);
            result.y = copy_out(y);
            result.z = copy_out(z);
            result.b_iso = copy_out(b_iso);
            result.occupancy = copy_out(occ);
            result.aniso_u = copy_out(aniso);
            result.has_aniso = copy_out(has_aniso);
            result.altloc = copy_out(altloc);
            result.insertion_code = copy_out(icode);
            result.residue_number = copy_out(resnum);
            result.serial = copy_out(serial);
            result.atomic_number = copy_out(atomic_number);
            result.element_offset = copy_out(element_off);
            result.atom_name_offset = copy_out(atom_off);
            result.residue_name_offset = copy_out(resname_off);
            result.chain_name_offset = copy_out(chain_off);
            result.strings = copy_out(pool.bytes);
            result.strings_size = pool.bytes.size();
        } catch (...) {
            cgemmi_atoms_free(&result);
            throw;
        }
        *out = result;
        return CGEMMI_OK;
    }, CGEMMI_ERROR_INTERNAL, "", message, message_size);
}

extern "C" void cgemmi_atoms_free(CGemmiAtoms* atoms) {
    if (atoms == nullptr) return;
    std::free(atoms->model_numbers);
    std::free(atoms->x);
    std::free(atoms->y);
    std::free(atoms->z);
    std::free(atoms->b_iso);
    std::free(atoms->occupancy);
    std::free(atoms->aniso_u);
    std::free(atoms->has_aniso);
    std::free(atoms->altloc);
    std::free(atoms->insertion_code);
    std::free(atoms->residue_number);
    std::free(atoms->serial);
    std::free(atoms->atomic_number);
    std::free(atoms->element_offset);
    std::free(atoms->atom_name_offset);
    std::free(atoms->residue_name_offset);
    std::free(atoms->chain_name_offset);
    std::free(atoms->strings);
    std::memset(atoms, 0, sizeof(*atoms));
}

extern "C" int cgemmi_c4322(const char* symbol, double a[5], double b[5], char* message,
                            size_t message_size) {
    if (message != nullptr && message_size > 0) message[0] = '\0';
    return guarded([&]() -> int {
        if (symbol == nullptr || a == nullptr || b == nullptr) {
            write_message("cgemmi_c4322: null argument", message, message_size);
            return CGEMMI_ERROR_INTERNAL;
        }
        // gemmi's find_element looks at the first two characters only ("Carbon" would be Ca):
        // accept one or two letters, surrounding blanks allowed.
        std::string s(symbol);
        size_t first = s.find_first_not_of(" \t");
        size_t last = s.find_last_not_of(" \t");
        s = first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
        bool letters = !s.empty() && s.size() <= 2;
        for (char c : s) letters = letters && std::isalpha(static_cast<unsigned char>(c));
        gemmi::El el = letters ? gemmi::find_element(s.c_str()) : gemmi::El::X;
        // C4322::has() is true for El::X (its row 0 is a copy of oxygen's): exclude it here.
        if (el == gemmi::El::X || !gemmi::C4322<double>::has(el)) {
            write_message(std::string("element \"") + symbol +
                              "\" is not in the electron scattering table "
                              "(International Tables C 4.3.2.2: H to Cf)",
                          message, message_size);
            return CGEMMI_ERROR_UNKNOWN_ELEMENT;
        }
        const auto& coef = gemmi::C4322<double>::get(el);
        for (int i = 0; i < 5; ++i) {
            a[i] = coef.a(i);
            b[i] = coef.b(i);
        }
        return CGEMMI_OK;
    }, CGEMMI_ERROR_INTERNAL, "", message, message_size);
}

extern "C" const char* cgemmi_version(void) { return GEMMI_VERSION; }
