import { test } from 'node:test';
import assert from 'node:assert/strict';
import dicomParser from 'dicom-parser';
import { deidentifyDicom, readRadiographBytes, remapUid } from '../../src/radiograph/index.js';
import { writeImage, type El } from './dicom-writer.js';

const KEY = 'unit-test-key-0123456789';
const STUDY = '1.2.826.0.1.3680043.8.498.77';

function identified(sop: string): Uint8Array {
  const extra: El[] = [
    { tag: 0x00080018, vr: 'UI', value: sop },
    { tag: 0x0020000d, vr: 'UI', value: STUDY },
    { tag: 0x00100010, vr: 'PN', value: 'Doe^Jane' },
    { tag: 0x00100020, vr: 'LO', value: 'MRN-12345' },
    { tag: 0x00100030, vr: 'DA', value: '20150610' },
    { tag: 0x00100040, vr: 'CS', value: 'F' },
    { tag: 0x00080020, vr: 'DA', value: '20230101' },
    { tag: 0x00080080, vr: 'LO', value: 'Childrens Hospital' },
    { tag: 0x00091010, vr: 'LO', value: 'private vendor data' },
    {
      tag: 0x00081140,
      vr: 'SQ',
      value: [[{ tag: 0x00081155, vr: 'UI', value: '1.2.826.0.1.3680043.8.498.5' }]],
    },
  ];
  return writeImage({ rows: 2, columns: 2, values: [1, 2, 3, 4], extra });
}

void test('basic profile: identifying attributes emptied or removed, private tags gone, method recorded', async () => {
  const out = await deidentifyDicom(identified('1.2.826.0.1.3680043.8.498.100'), 'a.dcm', { uidKey: KEY });
  const ds = dicomParser.parseDicom(out);
  assert.equal(ds.string('x00100010'), undefined); // PatientName: Z (present, empty)
  assert.ok(ds.elements['x00100010']);
  assert.equal(ds.string('x00100020'), undefined);
  assert.equal(ds.string('x00100030'), undefined);
  assert.equal(ds.elements['x00080080'], undefined); // InstitutionName: X
  assert.equal(ds.elements['x00091010'], undefined); // private
  assert.equal(ds.elements['x00081140'], undefined); // ReferencedImageSequence: X
  assert.equal(ds.string('x00120062'), 'YES');
  const codes = (ds.elements['x00120064']?.items ?? []).map((i) => i.dataSet?.string('x00080100'));
  assert.deepEqual(codes, ['113100', '113108']);
});

void test('patient characteristics are retained and the age is kept from the removed dates', async () => {
  const out = await deidentifyDicom(identified('1.2.826.0.1.3680043.8.498.100'), 'a.dcm', { uidKey: KEY });
  const r = await readRadiographBytes(out, 'a.dcm');
  assert.equal(r.metadata.patientSex, 'F');
  assert.equal(r.metadata.patientAge, '007Y');
  assert.equal(r.metadata.patientBirthDate, null);
  assert.deepEqual(Array.from(r.pixels), [1, 2, 3, 4]);
});

void test('without the retain option sex and age go too', async () => {
  const out = await deidentifyDicom(identified('1.2.826.0.1.3680043.8.498.100'), 'a.dcm', {
    uidKey: KEY,
    retainPatientCharacteristics: false,
  });
  const r = await readRadiographBytes(out, 'a.dcm');
  assert.equal(r.metadata.patientSex, null);
  assert.equal(r.metadata.age, null);
});

void test('UIDs are remapped consistently across files and keys', async () => {
  const a = dicomParser.parseDicom(
    await deidentifyDicom(identified('1.2.826.0.1.3680043.8.498.100'), 'a.dcm', { uidKey: KEY }),
  );
  const b = dicomParser.parseDicom(
    await deidentifyDicom(identified('1.2.826.0.1.3680043.8.498.101'), 'b.dcm', { uidKey: KEY }),
  );
  assert.equal(a.string('x0020000d'), remapUid(STUDY, KEY)); // same study -> same new study UID
  assert.equal(a.string('x0020000d'), b.string('x0020000d'));
  assert.notEqual(a.string('x00080018'), b.string('x00080018'));
  // The meta group is remapped too (the test writer puts a fixed MediaStorageSOPInstanceUID there).
  assert.equal(a.string('x00020003'), remapUid('1.2.826.0.1.3680043.8.498.1', KEY));
  assert.match(a.string('x00080018') ?? '', /^2\.25\.\d+$/);
  assert.equal(a.string('x00080016'), '1.2.840.10008.5.1.4.1.1.1.1'); // SOP Class UID is not an identifier
  assert.notEqual(remapUid(STUDY, KEY), remapUid(STUDY, `${KEY}-other`));
});

void test('a short UID key is refused', async () => {
  await assert.rejects(
    deidentifyDicom(identified('1.2.3'), 'a.dcm', { uidKey: 'short' }),
    /uidKey must be at least 16/,
  );
});
