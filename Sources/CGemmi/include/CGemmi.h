/*
 * CGemmi: atomic models read through gemmi (https://gemmi.readthedocs.io; Debian gemmi-dev 0.5.7,
 * header-only) behind a plain C API that Swift imports. No C++ type and no C++ exception crosses
 * this boundary: every function catches inside and reports failure as a status code plus a
 * one-line message written into a caller's buffer.
 *
 * Units: positions in Å, B in Å², U (ANISOU) in Å², occupancy as a fraction.
 */
#ifndef CGEMMI_H
#define CGEMMI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. The message buffer holds one line (no newline) when the code is not OK. */
enum {
    CGEMMI_OK = 0,
    /* The file could not be read (missing, a directory or not a regular file, unknown format,
       corrupt gzip data, binary data, parse error); gemmi's message or the shim's. */
    CGEMMI_ERROR_READ = 1,
    /* The requested model number is not in the file; the message lists the models there. */
    CGEMMI_ERROR_NO_SUCH_MODEL = 2,
    /* The file holds no model at all. */
    CGEMMI_ERROR_NO_MODELS = 3,
    /* The element is not in the International Tables C 4.3.2.2 table (cgemmi_c4322). */
    CGEMMI_ERROR_UNKNOWN_ELEMENT = 4,
    /* Anything else (out of memory, an unexpected exception). */
    CGEMMI_ERROR_INTERNAL = 5,
};

/* Residue numbers that the file leaves unset (mmCIF "?" or ".") read as this value. */
#define CGEMMI_NO_RESIDUE_NUMBER INT32_MIN

/*
 * The atoms of one model, as a struct of arrays of length `count`, in the order gemmi holds them
 * (chains, then residues, then atoms; mmCIF rows of one residue that are split in the file are
 * brought together). Everything is owned by the struct: release it with cgemmi_atoms_free.
 *
 * Strings (element symbol, atom name, residue name, chain name) live in one pool, `strings`, of
 * NUL-terminated strings; the per-atom *_offset arrays index into it. Equal chain and residue
 * names share one entry.
 */
typedef struct CGemmiAtoms {
    size_t count;
    /* Number of the model that was read (the MODEL serial / pdbx_PDB_model_num). */
    int32_t model_number;
    /* Numbers of all models in the file, in file order. */
    size_t model_count;
    int32_t *model_numbers;

    double *x, *y, *z;          /* Cartesian position, Å */
    float *b_iso;               /* isotropic B, Å² (as in the file; gemmi's default when absent) */
    float *occupancy;           /* as in the file, 0...1 */
    /* ANISOU U tensor, Å², 6 per atom in PDB order U11 U22 U33 U12 U13 U23 (PDB files store
       U × 10⁴; gemmi has already scaled it). All zero when has_aniso is 0. */
    float *aniso_u;
    uint8_t *has_aniso;         /* 1 when the file gives a U tensor (gemmi: trace != 0) */
    char *altloc;               /* alternate location indicator, '\0' when none */
    char *insertion_code;       /* residue insertion code, ' ' when none */
    int32_t *residue_number;    /* author residue number, CGEMMI_NO_RESIDUE_NUMBER when unset */
    int32_t *serial;            /* atom serial number (PDB columns 7-11, mmCIF id), 0 when unset */
    uint8_t *atomic_number;     /* 0 when gemmi does not know the element (symbol "X") */

    /* Offsets into `strings`. The element symbol is gemmi's canonical spelling ("C", "Fe",
       "X" for unknown). Chain: author chain name (PDB column 22 / mmCIF auth_asym_id). */
    uint32_t *element_offset;
    uint32_t *atom_name_offset;
    uint32_t *residue_name_offset;
    uint32_t *chain_name_offset;
    char *strings;
    size_t strings_size;
} CGemmiAtoms;

/*
 * Reads a PDB, mmCIF (or mmJSON) file, optionally gzipped (by the ".gz" suffix), the format chosen
 * by gemmi from the file name's extension (.pdb/.ent, .cif/.mmcif, .json). The file must be a
 * regular file; binary data with no atoms is refused as "not a PDB or mmCIF file".
 *   model_number: the model to read when use_model_number is nonzero; otherwise the first model.
 *   out: filled on success; on CGEMMI_ERROR_NO_SUCH_MODEL only model_count and model_numbers are
 *   set; zeroed on other failures. Call cgemmi_atoms_free on it in every case.
 *   message, message_size: receive a one-line message on failure (truncated to fit, always
 *   NUL-terminated when message_size > 0). The message does not repeat the path unless gemmi's
 *   own message does.
 * A model with no atoms is not an error here (count is 0).
 * Returns a CGEMMI_* code.
 */
int cgemmi_read_atoms(const char *path, int use_model_number, int32_t model_number,
                      CGemmiAtoms *out, char *message, size_t message_size);

/* Frees everything cgemmi_read_atoms allocated in `atoms` and zeroes it. NULL is allowed. */
void cgemmi_atoms_free(CGemmiAtoms *atoms);

/*
 * Five-Gaussian electron scattering factor of a neutral atom, International Tables for
 * Crystallography Vol. C (2011), table 4.3.2.2 (gemmi/c4322.hpp):
 *     f(s) = sum_i a[i] * exp(-b[i] * s^2),  s = sin(theta)/lambda in Å⁻¹, s <= 2 Å⁻¹,
 * with a in Å and b in Å². Covers H (and D, which uses H's row) to Cf (Z = 1...98).
 *   symbol: element symbol, case-insensitive ("C", "FE", "fe").
 * Returns CGEMMI_OK, or CGEMMI_ERROR_UNKNOWN_ELEMENT (with a message) when gemmi does not know
 * the symbol or the table has no row for it.
 */
int cgemmi_c4322(const char *symbol, double a[5], double b[5], char *message, size_t message_size);

/* The gemmi version the shim was compiled against, e.g. "0.5.7". */
const char *cgemmi_version(void);

#ifdef __cplusplus
}
#endif

#endif /* CGEMMI_H */
