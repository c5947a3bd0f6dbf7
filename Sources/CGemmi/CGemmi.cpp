// The C API of CGemmi.h over gemmi (header-only, Debian gemmi-dev 0.5.7). Every entry point
// catches all C++ exceptions; nothing of C++ leaks into the caller.

#include "CGemmi.h"

#include <gemmi/c4322.hpp>
#include <gemmi/elem.hpp>
#include <gemmi/gz.hpp>       // MaybeGzipped: reads .gz transparently (zlib)
#include <gemmi/mmread.hpp>   // read_structure: PDB, mmCIF, mmJSON by extension
#include <gemmi/model.hpp>
#include <gemmi/version.hpp>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

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
        st = gemmi::read_structure(gemmi::MaybeGzipped(path));
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
        std::vector<int32_t> resnum;
        std::vector<uint32_t> element_off, atom_off, resname_off, chain_off;
        x.reserve(n); y.reserve(n); z.reserve(n);
        b_iso.reserve(n); occ.reserve(n); aniso.reserve(6 * n);
        has_aniso.reserve(n); atomic_number.reserve(n);
        altloc.reserve(n); icode.reserve(n); resnum.reserve(n);
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
